// Every type a public declaration refers to is exported from the package, so
// a user can name what they receive (a DrainReport's CutRequest, a config's
// ResolvedCheck) instead of digging it out with indexed access types. Walks
// the public declarations with the TypeScript checker, as a user's editor would.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('../', import.meta.url))
const src = `${root}src/`

t.test('every type reachable from an exported declaration is exported too', async (t) => {
  const program = ts.createProgram([`${src}index.ts`], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, types: ['node'], noEmit: true
  })
  const checker = program.getTypeChecker()
  const index = checker.getSymbolAtLocation(program.getSourceFile(`${src}index.ts`) as ts.SourceFile) as ts.Symbol
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(s) : s
  const exported = new Set(checker.getExportsOfModule(index).map(resolve))
  t.ok(exported.size > 40, 'the index was read')
  const missing = new Map<string, string>()
  const seen = new Set<ts.Symbol>()
  const ours = (node: ts.Node): boolean => node.getSourceFile().fileName.startsWith(src)

  function visit (symbol: ts.Symbol, from: string): void {
    if (seen.has(symbol)) return
    seen.add(symbol)
    for (const declaration of symbol.declarations ?? []) {
      if (ours(declaration)) walk(declaration, from)
    }
  }
  function walk (node: ts.Node, from: string): void {
    // Function bodies are not part of the public surface.
    if (ts.isBlock(node)) return
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isTypeQueryNode(node) ? node.exprName : ts.isExpressionWithTypeArguments(node) ? node.expression : undefined
    const symbol = name === undefined ? undefined : checker.getSymbolAtLocation(name)
    const target = symbol === undefined ? undefined : resolve(symbol)
    const declaration = target?.declarations?.[0]
    if (target !== undefined && declaration !== undefined && ours(declaration) && !ts.isTypeParameterDeclaration(declaration)) {
      if (!exported.has(target)) missing.set(target.name, from)
      visit(target, target.name)
    }
    ts.forEachChild(node, (child) => { walk(child, from) })
  }
  for (const symbol of exported) visit(symbol, symbol.name)
  t.same(Object.fromEntries(missing), {}, 'unexported types (and the public type that reaches them)')
})
