// Every Dapper call in this assembly is generated at build time; a call the generator cannot read fails the build
// (DAP warnings are errors), so none is left to emit IL at run time.
[module: Dapper.DapperAot]
