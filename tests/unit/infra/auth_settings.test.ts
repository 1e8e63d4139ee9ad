/**
 * Who may call the deployed API, as infra/ configures it: the app checks Microsoft Entra tokens
 * (AUTH_MODE jwt) or App Service Authentication does in front of it (easyauth), never nobody
 * (none); the issuers and audiences are the tenant's v1 and v2 ones; App Service Authentication is
 * token validation only with 401 for unauthenticated callers; the HTTP auth level, CORS and the
 * plugin policy come from parameters. The app settings are then evaluated from the Bicep text and
 * loaded through the real src/config/config.ts, with what the platform adds in Azure.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import {
  appSettings,
  bicep,
  braceBlock,
  declared,
  deployedResourceValues,
  functionAppFile,
  jsonFiles,
  moduleParams,
  objectEntries,
  platformSetting,
  varObject,
} from "./bicep_text.js";

const mainFile = "main.bicep";

interface ParamDeclaration {
  readonly type: string;
  /** The default expression, undefined when the parameter is required. */
  readonly defaultValue: string | undefined;
  /** The items of `@allowed([...])`, undefined without one. */
  readonly allowed: string[] | undefined;
  /** The decorator lines above the declaration. */
  readonly decorators: string;
}

/** `param <name> <type> [= default]` of a file, with the decorators right above it. */
function param(file: string, name: string): ParamDeclaration {
  const lines = bicep(file).split("\n");
  const at = lines.findIndex((line) => new RegExp(`^param\\s+${name}\\s`).test(line));
  if (at === -1) throw new Error(`infra/${file} declares no param ${name}`);
  const m = new RegExp(`^param\\s+${name}\\s+(\\w+)(?:\\s*=\\s*(.+?))?\\s*$`).exec(lines[at]!)!;
  let first = at;
  while (first > 0 && lines[first - 1]!.trim() !== "" && !/^(param|var|resource|module|output)\s/.test(lines[first - 1]!)) first -= 1;
  const decorators = lines.slice(first, at).join("\n");
  const allowedBlock = /@allowed\(\[([^\]]*)\]\)/.exec(decorators);
  return {
    type: m[1]!,
    defaultValue: m[2],
    allowed: allowedBlock?.[1]
      ?.split("\n")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
    decorators,
  };
}

/** The single-line expression of `var <name> = <expression>`. */
function varExpression(file: string, name: string): string {
  const m = new RegExp(`^var\\s+${name}\\s*=\\s*(.+?)\\s*$`, "m").exec(bicep(file));
  if (!m) throw new Error(`infra/${file} declares no var ${name}`);
  return m[1]!;
}

/** The items of `var <name> = [ ... ]`, one per line, as expressions. */
function varArray(file: string, name: string): string[] {
  const m = new RegExp(`^var\\s+${name}\\s*=\\s*\\[\\n([^\\]]*)\\]`, "m").exec(bicep(file));
  if (!m) throw new Error(`infra/${file} declares no var ${name} = [...]`);
  return m[1]!
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

type Scope = Readonly<Record<string, string | boolean | readonly string[]>>;

/**
 * The value of a Bicep expression of the shapes these templates use for the auth settings: a
 * string literal (with `${name}` interpolation), a name in scope, `join(<var array>, ',')`,
 * `a || b == 'x'` and `!empty(name)`. Anything else throws, so a new shape is noticed.
 */
function evaluate(expression: string, scope: Scope): string | boolean | readonly string[] {
  const text = expression.trim();
  const stringLiteral = /^'([^']*)'$/.exec(text);
  if (stringLiteral) {
    return stringLiteral[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const value = scope[name];
      if (typeof value !== "string") throw new Error(`no string ${name} in scope for ${text}`);
      return value;
    });
  }
  if (text.includes("||")) return text.split("||").some((term) => evaluate(term, scope) === true);
  const equals = /^(\w+)\s*==\s*('[^']*')$/.exec(text);
  if (equals) return evaluate(equals[1]!, scope) === evaluate(equals[2]!, scope);
  const notEmpty = /^!empty\((\w+)\)$/.exec(text);
  if (notEmpty) {
    const value = evaluate(notEmpty[1]!, scope);
    return typeof value === "boolean" ? true : value.length > 0;
  }
  const join = /^join\((\w+),\s*','\)$/.exec(text);
  if (join) {
    const items = scope[join[1]!] ?? varArray(functionAppFile, join[1]!).map((item) => evaluate(item, scope));
    if (!Array.isArray(items)) throw new Error(`${join[1]} is not an array`);
    return items.join(",");
  }
  if (/^\w+$/.test(text) && text in scope) return scope[text]!;
  if (/^\w+$/.test(text)) {
    // A var of the module: an array or a single-line expression.
    try {
      return varArray(functionAppFile, text).map((item) => evaluate(item, scope) as string);
    } catch {
      return evaluate(varExpression(functionAppFile, text), scope);
    }
  }
  throw new Error(`cannot evaluate ${text}`);
}

const tenantId = "72f988bf-0000-4000-8000-000000000001";
const clientId = "3c5e0d7a-0000-4000-8000-000000000002";

/** The module's parameters as main.bicep passes them with azd's defaults, plus deployed values. */
function moduleScope(overrides: Partial<Record<string, string | boolean | readonly string[]>> = {}): Scope {
  return {
    // Deployed values of the other settings (resource names and ids).
    ...deployedResourceValues,
    // The callers' parameters: main.bicep's fallbacks applied.
    authMode: "jwt",
    authClientId: clientId,
    authTenantId: tenantId,
    authAppIdUri: `api://${clientId}`,
    enableAppServiceAuth: false,
    httpAuthLevel: "anonymous",
    corsAllowedOrigins: [],
    pluginPolicy: "",
    ...overrides,
  } as Scope;
}

/** The app's settings the module writes for a scope (not the host's own): the always-set ones and the conditional ones that apply. */
function deployedAppSettings(scope: Scope): Record<string, string> {
  const settings = new Map(varObject(functionAppFile, "appSettings"));
  if (evaluate(conditionOf("pluginPolicyAppSettings"), scope) === true) {
    for (const [name, expression] of varObject(functionAppFile, "pluginPolicyAppSettings")) settings.set(name, expression);
  }
  const environment: Record<string, string> = {};
  for (const [name, expression] of settings) {
    if (platformSetting.test(name)) continue; // the Functions host's, not the app's
    const value = /^'([^'$]*)'$/.exec(expression)?.[1] ?? scope[expression] ?? evaluate(expression, scope);
    if (typeof value !== "string") throw new Error(`${name}: ${expression} is not a string`);
    environment[name] = value;
  }
  return environment;
}

/** `var <name> = <condition> ? {` → the condition. */
function conditionOf(varName: string): string {
  const m = new RegExp(`^var\\s+${varName}\\s*=\\s*(.+?)\\s*\\?\\s*\\{`, "m").exec(bicep(functionAppFile));
  if (!m) throw new Error(`var ${varName} is not <condition> ? {...} : {}`);
  return m[1]!;
}

/** What the platform adds in Azure: the instance id always, WEBSITE_AUTH_ENABLED with App Service Authentication. */
function inAzure(settings: Record<string, string>, scope: Scope): Record<string, string> {
  const appServiceAuth = evaluate(varExpression(functionAppFile, "appServiceAuthEnabled"), scope) === true;
  return {
    ...settings,
    WEBSITE_INSTANCE_ID: "0f2d6a1b9c8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
    ...(appServiceAuth ? { WEBSITE_AUTH_ENABLED: "True" } : {}),
  };
}

const authSettingsResource = () => declared(functionAppFile, "Microsoft.Web/sites/config");

// ---------------------------------------------------------------------------------------------

describe("infra: the callers' parameters", () => {
  it("main.bicep requires the client id of the API's app registration, a GUID-long string, with no default", () => {
    const clientIdParam = param(mainFile, "authClientId");
    expect(clientIdParam.type).toBe("string");
    expect(clientIdParam.defaultValue).toBeUndefined();
    expect(clientIdParam.decorators).toMatch(/@minLength\(36\)/);
    expect(clientIdParam.decorators).toMatch(/@maxLength\(36\)/);
  });

  it("the tenant defaults to the deployment's, the App ID URI to api://<client id>, also when azd passes them empty", () => {
    expect(param(mainFile, "authTenantId").defaultValue).toBe("tenant().tenantId");
    expect(varExpression(mainFile, "authTenant")).toBe("empty(authTenantId) ? tenant().tenantId : authTenantId");
    expect(param(mainFile, "authAppIdUri").defaultValue).toBe("''");
    expect(varExpression(mainFile, "authAudienceUri")).toBe("empty(authAppIdUri) ? 'api://${authClientId}' : authAppIdUri");
    const { params } = moduleParams("functionApp");
    expect(params.get("authClientId")).toBe("authClientId");
    expect(params.get("authTenantId")).toBe("authTenant");
    expect(params.get("authAppIdUri")).toBe("authAudienceUri");
  });

  it("AUTH_MODE can only be jwt (the default) or easyauth, in main.bicep and in the module: never none", () => {
    for (const file of [mainFile, functionAppFile]) {
      const authMode = param(file, "authMode");
      expect(authMode.allowed, file).toEqual(["'jwt'", "'easyauth'"]);
      expect(authMode.defaultValue, file).toBe("'jwt'");
    }
    expect(moduleParams("functionApp").params.get("authMode")).toBe("authMode");
    expect(appSettings().get("AUTH_MODE")).toBe("authMode");
  });

  it("App Service Authentication is off by default and passed on; HTTP_AUTH_LEVEL is anonymous or function, anonymous by default", () => {
    expect(param(mainFile, "enableAppServiceAuth")).toMatchObject({ type: "bool", defaultValue: "false" });
    for (const file of [mainFile, functionAppFile]) {
      expect(param(file, "httpAuthLevel"), file).toMatchObject({ type: "string", defaultValue: "'anonymous'", allowed: ["'anonymous'", "'function'"] });
    }
    const { params } = moduleParams("functionApp");
    expect(params.get("enableAppServiceAuth")).toBe("enableAppServiceAuth");
    expect(params.get("httpAuthLevel")).toBe("httpAuthLevel");
    expect(appSettings().get("HTTP_AUTH_LEVEL")).toBe("httpAuthLevel");
  });

  it("CORS origins are an array and the plugin policy a string, both empty by default, passed on", () => {
    expect(param(mainFile, "corsAllowedOrigins")).toMatchObject({ type: "array", defaultValue: "[]" });
    expect(param(mainFile, "pluginPolicy")).toMatchObject({ type: "string", defaultValue: "''" });
    const { params } = moduleParams("functionApp");
    expect(params.get("corsAllowedOrigins")).toBe("corsAllowedOrigins");
    expect(params.get("pluginPolicy")).toBe("pluginPolicy");
  });

  it("main.parameters.json takes them from azd's environment (the client id required, the rest with defaults)", () => {
    const parameters = (JSON.parse(jsonFiles.get("main.parameters.json")!) as { parameters: Record<string, { value: unknown }> }).parameters;
    expect(parameters.authClientId?.value).toBe("${AUTH_CLIENT_ID}");
    expect(parameters.authTenantId?.value).toBe("${AUTH_TENANT_ID}");
    expect(parameters.authAppIdUri?.value).toBe("${AUTH_APP_ID_URI}");
    expect(parameters.authMode?.value).toBe("${AUTH_MODE=jwt}");
    expect(parameters.enableAppServiceAuth?.value).toBe("${ENABLE_APP_SERVICE_AUTH=false}");
    expect(parameters.httpAuthLevel?.value).toBe("${HTTP_AUTH_LEVEL=anonymous}");
  });

  it("outputs the issuers, audiences, App ID URI and mode under names no parameter is read from", () => {
    const outputs = new Map([...bicep(mainFile).matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    expect(outputs.get("API_APP_ID_URI")).toBe("authAudienceUri");
    expect(outputs.get("API_JWT_ISSUERS")).toBe("functionApp.outputs.jwtIssuers");
    expect(outputs.get("API_JWT_AUDIENCES")).toBe("functionApp.outputs.jwtAudiences");
    expect(outputs.get("API_AUTH_MODE")).toBe("functionApp.outputs.authMode");
    expect(outputs.get("APP_SERVICE_AUTH_ENABLED")).toBe("functionApp.outputs.appServiceAuthEnabled");
    // azd writes outputs into the environment main.parameters.json reads: a derived value must not come back as a parameter.
    const parameters = (JSON.parse(jsonFiles.get("main.parameters.json")!) as { parameters: Record<string, { value: string }> }).parameters;
    const authEnvironment = ["authClientId", "authTenantId", "authAppIdUri", "authMode", "enableAppServiceAuth", "httpAuthLevel"].map(
      (name) => /^\$\{(\w+)/.exec(parameters[name]!.value)![1]!,
    );
    expect(authEnvironment).toHaveLength(6);
    expect([...outputs.keys()].filter((name) => authEnvironment.includes(name))).toEqual([]);
  });
});

describe("infra: the app checks the tenant's v1 and v2 tokens (AUTH_JWT_*)", () => {
  it("accepts both issuers of the tenant: v2 (login.microsoftonline.com/<tenant>/v2.0) and v1 (sts.windows.net/<tenant>/)", () => {
    expect(appSettings().get("AUTH_JWT_ISSUER")).toBe("join(jwtIssuers, ',')");
    expect(evaluate("join(jwtIssuers, ',')", moduleScope())).toBe(`https://login.microsoftonline.com/${tenantId}/v2.0,https://sts.windows.net/${tenantId}/`);
  });

  it("accepts both audiences: the client id (v2 tokens) and the App ID URI (v1 tokens)", () => {
    expect(appSettings().get("AUTH_JWT_AUDIENCE")).toBe("join(jwtAudiences, ',')");
    expect(evaluate("join(jwtAudiences, ',')", moduleScope())).toBe(`${clientId},api://${clientId}`);
    expect(evaluate("join(jwtAudiences, ',')", moduleScope({ authAppIdUri: "api://codexcontinue" }))).toBe(`${clientId},api://codexcontinue`);
  });

  it("never sets what the platform sets: WEBSITE_AUTH_ENABLED (an app setting would claim App Service Authentication without it), WEBSITE_INSTANCE_ID", () => {
    const names = [...appSettings().keys()];
    expect(names).not.toContain("WEBSITE_AUTH_ENABLED");
    expect(names).not.toContain("WEBSITE_INSTANCE_ID");
    expect(bicep(functionAppFile)).not.toMatch(/WEBSITE_AUTH_ENABLED|WEBSITE_INSTANCE_ID/);
  });

  it("sets PLUGIN_POLICY only when the parameter is not empty", () => {
    expect(varObject(functionAppFile, "appSettings").has("PLUGIN_POLICY")).toBe(false);
    expect([...varObject(functionAppFile, "pluginPolicyAppSettings")]).toEqual([["PLUGIN_POLICY", "pluginPolicy"]]);
    expect(conditionOf("pluginPolicyAppSettings")).toBe("!empty(pluginPolicy)");
    expect(deployedAppSettings(moduleScope())).not.toHaveProperty("PLUGIN_POLICY");
    expect(deployedAppSettings(moduleScope({ pluginPolicy: '{"echo":{"roles":["admin"]}}' }))).toHaveProperty("PLUGIN_POLICY", '{"echo":{"roles":["admin"]}}');
  });
});

describe("infra: sign-in discovery for MCP clients", () => {
  it("names the API's user_impersonation scope in the app's OAuth metadata (AUTH_JWT_SCOPES)", () => {
    expect(deployedAppSettings(moduleScope())).toHaveProperty("AUTH_JWT_SCOPES", `api://${clientId}/user_impersonation`);
  });

  it("with App Service Authentication, has the platform publish the metadata with that scope (WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES), and only then", () => {
    expect([...varObject(functionAppFile, "appServiceAuthAppSettings")]).toEqual([["WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES", "mcpScope"]]);
    expect(conditionOf("appServiceAuthAppSettings")).toBe("appServiceAuthEnabled");
    expect(evaluate("mcpScope", moduleScope())).toBe(`api://${clientId}/user_impersonation`);
  });
});

describe("infra: App Service Authentication (authsettingsV2), token validation only", () => {
  it("is deployed when enableAppServiceAuth is set, and always with easyauth (which trusts x-ms-client-principal)", () => {
    const resource = authSettingsResource();
    expect(resource.condition).toBe("appServiceAuthEnabled");
    expect(resource.apiVersion).toBe("2024-04-01");
    const on = (authMode: string, enableAppServiceAuth: boolean) =>
      evaluate(varExpression(functionAppFile, "appServiceAuthEnabled"), moduleScope({ authMode, enableAppServiceAuth }));
    expect(on("jwt", false)).toBe(false);
    expect(on("jwt", true)).toBe(true);
    expect(on("easyauth", false)).toBe(true);
    expect(on("easyauth", true)).toBe(true);
  });

  it("is the site's authsettingsV2, written after the app settings", () => {
    const top = objectEntries(authSettingsResource().body);
    expect(top.get("parent")).toBe("functionApp");
    expect(top.get("name")).toBe("'authsettingsV2'");
    expect(authSettingsResource().body).toMatch(/dependsOn:\s*\[\s*functionApp::configAppSettings\s*\]/);
  });

  it("requires authentication and answers 401 to unauthenticated callers, except on health and the console page with its assets", () => {
    const { body } = authSettingsResource();
    expect(objectEntries(braceBlock(body, body.search(/platform\s*:/))).get("enabled")).toBe("true");
    const validation = objectEntries(braceBlock(body, body.search(/globalValidation\s*:/)));
    expect(validation.get("requireAuthentication")).toBe("true");
    expect(validation.get("unauthenticatedClientAction")).toBe("'Return401'");
    expect(validation.get("excludedPaths")).toBe("appServiceAuthExcludedPaths");
    expect(evaluate("appServiceAuthExcludedPaths", moduleScope())).toEqual(["/api/health", "/api/health/live", "/api/console", "/api/console/*"]);
    expect(objectEntries(braceBlock(body, body.search(/httpSettings\s*:/))).get("requireHttps")).toBe("true");
  });

  it("validates Entra tokens for the API's client id and both audiences, with no client secret and no token store", () => {
    const { body } = authSettingsResource();
    const providers = braceBlock(body, body.search(/identityProviders\s*:/));
    expect([...objectEntries(providers).keys()]).toEqual(["azureActiveDirectory"]);
    const aad = braceBlock(providers, providers.search(/azureActiveDirectory\s*:/));
    expect(objectEntries(aad).get("enabled")).toBe("true");
    const registration = objectEntries(braceBlock(aad, aad.search(/registration\s*:/)));
    expect(registration.get("clientId")).toBe("authClientId");
    expect(registration.get("openIdIssuer")).toBe("'https://sts.windows.net/${authTenantId}/v2.0'");
    expect([...registration.keys()].sort()).toEqual(["clientId", "openIdIssuer"]);
    expect(objectEntries(braceBlock(aad, aad.search(/validation\s*:/))).get("allowedAudiences")).toBe("jwtAudiences");
    expect(evaluate("jwtAudiences", moduleScope())).toEqual([clientId, `api://${clientId}`]);
    expect(body).not.toMatch(/clientSecret/i);
    const tokenStore = objectEntries(braceBlock(body, body.search(/tokenStore\s*:/)));
    expect(tokenStore.get("enabled")).toBe("false");
  });
});

describe("infra: CORS on Flex Consumption", () => {
  it("the site's platform CORS list is the corsAllowedOrigins parameter, without credentials, and absent when empty", () => {
    const site = declared(functionAppFile, "Microsoft.Web/sites");
    const at = site.body.search(/siteConfig\s*:/);
    expect(at).toBeGreaterThan(-1);
    expect(site.body.slice(at)).toMatch(/^siteConfig:\s*!empty\(corsAllowedOrigins\)\s*\?\s*\{/);
    const cors = objectEntries(braceBlock(site.body, site.body.indexOf("cors:", at)));
    expect(cors.get("allowedOrigins")).toBe("corsAllowedOrigins");
    expect(cors.get("supportCredentials")).toBe("false");
    expect(site.body.slice(at)).toMatch(/^siteConfig:[\s\S]*?\}\s*\n\s*\}\s*:\s*\{\}/);
  });

  it("does not set CORS_ALLOWED_ORIGINS: on Flex Consumption the platform writes the site's CORS list there as JSON for the Functions host", () => {
    expect(appSettings().has("CORS_ALLOWED_ORIGINS")).toBe(false);
  });

  // Known conflict (see docs/deployment.md, "CORS"): the Functions host on Flex Consumption owns the
  // environment variable CORS_ALLOWED_ORIGINS and fills it with siteConfig.cors.allowedOrigins as a
  // JSON array; the app reads the same name as a comma-separated list and refuses the JSON form.
  // This test passes while that is so; when src/config/config.ts accepts the JSON form it starts
  // failing: turn it into a plain `it` then, and corsAllowedOrigins can be used.
  it("the app accepts CORS_ALLOWED_ORIGINS as the platform writes it from a non-empty corsAllowedOrigins (a JSON array)", () => {
    const scope = moduleScope({ corsAllowedOrigins: ["https://chat.example.com"] });
    const environment = { ...inAzure(deployedAppSettings(scope), scope), CORS_ALLOWED_ORIGINS: JSON.stringify(scope.corsAllowedOrigins) };
    expect(loadConfig(environment).http.corsAllowedOrigins).toEqual(["https://chat.example.com"]);
  });
});

describe("infra: the app settings load through src/config/config.ts in Azure", () => {
  it("jwt (the default): the app checks tokens for both issuers and audiences; anonymous registrations", () => {
    const scope = moduleScope();
    const config = loadConfig(inAzure(deployedAppSettings(scope), scope));
    expect(config.auth).toEqual({
      mode: "jwt",
      issuers: [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`],
      audiences: [clientId, `api://${clientId}`],
      jwksUri: undefined,
      clockSkewSeconds: 60,
      scopes: [`api://${clientId}/user_impersonation`],
    });
    expect(config.http.authLevel).toBe("anonymous");
    expect(config.http.corsAllowedOrigins).toEqual([]);
    expect(config.pluginPolicy).toBeUndefined();
    expect(config.rateLimit.perMinute).toBe(600);
  });

  it("jwt with App Service Authentication in front, function keys and a plugin policy", () => {
    const scope = moduleScope({ enableAppServiceAuth: true, httpAuthLevel: "function", pluginPolicy: '{"shell":{"roles":["admin"],"channels":["execute"]}}' });
    const environment = inAzure(deployedAppSettings(scope), scope);
    expect(environment.WEBSITE_AUTH_ENABLED).toBe("True");
    const config = loadConfig(environment);
    expect(config.auth.mode).toBe("jwt");
    expect(config.http.authLevel).toBe("function");
    expect(config.pluginPolicy).toEqual({ shell: { roles: ["admin"], channels: ["execute"] } });
  });

  it("easyauth: App Service Authentication is forced on, so the platform's WEBSITE_AUTH_ENABLED=True lets the app start", () => {
    const scope = moduleScope({ authMode: "easyauth", enableAppServiceAuth: false });
    const environment = inAzure(deployedAppSettings(scope), scope);
    expect(environment.WEBSITE_AUTH_ENABLED).toBe("True");
    expect(loadConfig(environment).auth).toEqual({ mode: "easyauth" });
  });

  it("the app refuses what these templates must never produce (so the checks above can fail)", () => {
    const scope = moduleScope();
    const settings = inAzure(deployedAppSettings(scope), scope);
    expect(() => loadConfig({ ...settings, AUTH_MODE: "none" })).toThrow(/AUTH_MODE none is for local development only/);
    expect(() => loadConfig({ ...settings, AUTH_MODE: "" })).toThrow(/AUTH_MODE must be set in Azure/);
    expect(() => loadConfig({ ...settings, AUTH_JWT_ISSUER: "" })).toThrow(/AUTH_JWT_ISSUER must be set/);
    expect(() => loadConfig({ ...settings, AUTH_MODE: "easyauth" })).toThrow(/WEBSITE_AUTH_ENABLED/);
  });
});
