#include "integrations/health_targets.hpp"

#include "actors/ids.hpp"

namespace pixelcraft::integrations {

health_targets_set health_targets(const llm_options& llm, const vendor_options& vendors) {
  health_targets_set out;
  if (llm.provider == "openai")
    out.model = {llm.openai_url + "/v1/models", llm.api_key, "data", "id"};
  else
    out.model = {llm.ollama_url + "/api/tags", "", "models", "name"};
  if (!vendors.crm.key.empty())
    out.crm = {vendors.crm.url + "/crm/v3/objects/contacts?limit=1", vendors.crm.key, "", ""};
  if (!vendors.email.key.empty())
    out.email = {vendors.email.url + "/v3/scopes", vendors.email.key, "", ""};
  if (!vendors.calendar.key.empty() && !vendors.calendar_id.empty())
    out.calendar = {vendors.calendar.url + "/calendar/v3/calendars/" +
                        url_encode(vendors.calendar_id),
                    vendors.calendar.key, "", ""};
  return out;
}

} // namespace pixelcraft::integrations
