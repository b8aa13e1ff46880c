/**
 * The tsbpf compiler: kernel programs written in a TypeScript dialect (see docs/compiler.md and
 * tsbpf/lang) compiled to standard BPF ELF objects with BTF and .BTF.ext, without LLVM.
 */
export { compile, compileFile, type CompileOptions, type CompileResult } from './compile.js';
export { CompileError, formatDiagnostic, type Diagnostic, type Severity } from './diagnostics.js';
