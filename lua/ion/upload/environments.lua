-- ION's environments (reference/ion-api-facts.md): the API host, where the
-- GraphQL endpoint lives, and the auth server of the OAuth2 token endpoint.
local environments = {
  production = { api = "https://api.buildwithion.com", auth = "auth.buildwithion.com" },
  staging = { api = "https://staging-api.buildwithion.com", auth = "staging-auth.buildwithion.com" },
  ["gov-production"] = { api = "https://api-production-gov.buildwithion.com",
    auth = "auth-production-gov.buildwithion.com" },
  ["gov-staging"] = { api = "https://api-staging-gov.buildwithion.com",
    auth = "auth-staging-gov.buildwithion.com" },
  ["aus-production"] = { api = "https://api-production-aus.buildwithion.com",
    auth = "auth-production-aus.buildwithion.com" },
  ["aus-staging"] = { api = "https://api-staging-aus.buildwithion.com",
    auth = "auth-staging-aus.buildwithion.com" },
}

local M = {}

function M.names()
  local names = {}
  for name in pairs(environments) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- { endpoint =, auth_url = } of a named environment, or nil.
function M.get(name)
  local env = environments[name]
  if not env then return nil end
  return {
    api = env.api,
    endpoint = env.api .. "/graphql",
    auth_url = "https://" .. env.auth .. "/realms/api-keys/protocol/openid-connect/token",
  }
end

return M
