#include "workflows/execution.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft::workflows {

void strip_private_fields(nlohmann::json& row) {
  if (!row.is_object())
    return;
  for (auto key : {"workflow_config", "input_data", "owner_id", "owner_admin", "last_event_seq",
                   "replay_source", "replay_live_from", "lease_owner"})
    row.erase(key);
}

} // namespace pixelcraft::workflows
