// Parse-checks PowerShell scripts with the tree-sitter PowerShell grammar
// (WASM, no native build): prints each syntax error as FILE:LINE:COL and
// exits 1 if there is one. Used by ca/winimport_test.go; pwsh is not
// installable from the package registries CI can reach.
'use strict';
// Baseline compilation only: V8's optimizing tier-up of the 1 MB grammar
// otherwise holds the process for many seconds at exit.
require('v8').setFlagsFromString('--liftoff-only');
const fs = require('fs');
const { Parser, Language } = require('web-tree-sitter');

(async () => {
  await Parser.init();
  const lang = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  const parser = new Parser();
  parser.setLanguage(lang);
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const src = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    const tree = parser.parse(src);
    const walk = (n) => {
      if (n.isError || n.isMissing) {
        bad++;
        const what = n.isMissing ? 'missing ' + n.type : 'syntax error';
        console.log(`${file}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${what} near ${JSON.stringify(n.text.slice(0, 60))}`);
        return;
      }
      if (n.hasError) for (const c of n.children) walk(c);
    };
    walk(tree.rootNode);
  }
  process.exit(bad ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
