/**
 * docs/configuration.md, generated from the configuration's schema: each setting's row comes from the
 * documentation registered next to its schema (settingDocs). `npm run docs:config` writes it;
 * tests/unit/config/configuration_docs.test.ts fails when the file is stale.
 */
import type * as z from "zod/mini";
import { configSchema } from "./config.js";
import { settingsIn, type Setting } from "./setting.js";

const introduction = `# Configuration

Every setting the app reads, from the environment (locally also \`local.settings.json\` under
\`func start\`). One zod schema (\`src/config/config.ts\`) reads the environment once at start. A bad
or missing setting stops the start with one message that names every problem (secret values are
never echoed). Empty values count as unset.

This page is generated from the schema by \`npm run docs:config\`: each setting is documented next
to the schema that parses it (\`src/config/*_settings.ts\`, and a plugin's own in
\`plugins/<name>/settings.ts\`).`;

const closing = `Storage: set either the connection string (Azurite) or the account (Azure), not both. The
Functions entry requires one of them; the local host starts Azurite in-process when neither is
set. In Azure no key or connection string is set anywhere: every client (tables, blobs, queues,
Redis, Azure OpenAI) authenticates as the user-assigned identity named by \`AZURE_CLIENT_ID\`
(see [Deployment](deployment.md#identity-and-roles)). The app settings the Bicep templates set are
listed in [Deployment, "App settings"](deployment.md#app-settings).`;

export function renderConfigurationDocs(): string {
  const table = ["| setting | default | locally | in Azure (infra/) | meaning |", "| --- | --- | --- | --- | --- |", ...settingsIn(configSchema).map(row)];
  return `${introduction}\n\n${table.join("\n")}\n\n${closing}\n`;
}

function row(setting: Setting): string {
  const doc = setting.doc;
  if (!doc) throw new Error(`${setting.name} has no documentation: register it in settingDocs next to its schema`);
  // A setting left alone is "default" where it has a default value, "unset" where it has none.
  const value = defaultOf(setting.schema);
  const alone = value === undefined ? "unset" : "default";
  const cells = [`\`${setting.name}\``, doc.default ?? value ?? "unset", doc.local ?? alone, doc.azure ?? alone, doc.description];
  return `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
}

/** The schema's default value, in code quotes; undefined for a setting without one (an empty list is none). */
function defaultOf(schema: z.core.$ZodType): string | undefined {
  const def = schema._zod.def;
  const value: unknown = def.type === "default" ? (def as z.core.$ZodDefaultDef).defaultValue : undefined;
  return value === undefined || (Array.isArray(value) && value.length === 0) ? undefined : `\`${String(value)}\``;
}
