import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";

/** Managed Identity in Azure (the user-assigned identity named by AZURE_CLIENT_ID), developer credentials locally. */
export function createAzureCredential(clientId: string | undefined): TokenCredential {
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}
