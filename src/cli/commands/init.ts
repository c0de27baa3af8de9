import { resolve } from "node:path";
import type { Command } from "commander";
import { withJson } from "../options.js";

export function registerInit(program: Command): void {
  withJson(program.command("init"))
    .description("scaffold a goalops repository: goalops.yaml, goals/, lessons/, playbooks/, schemas/, a CI workflow, .gitignore")
    .argument("[dir]", "folder to initialize (created if missing)", ".")
    .addHelpText("after", `
Existing files are kept, never overwritten, so init is safe to run again.
Afterwards 'goalops validate' and 'goalops sync' pass at once on the example goals.`)
    .action(async (dir: string, options: { json?: boolean }) => {
      const { initRepo } = await import("../../scaffold/initRepo.js");
      const result = initRepo(resolve(dir));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      for (const path of result.created) process.stdout.write(`  created ${path}\n`);
      for (const path of result.kept) process.stdout.write(`  kept    ${path}\n`);
      process.stdout.write(`initialized goalops in ${result.root}\nnext: goalops validate && goalops sync\n`);
    });
}
