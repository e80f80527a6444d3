#pragma once
/// The `WorkflowExecution` of API.md §7 as clients see it, from a row the run actor loads
/// (`wf_load`: the public fields plus what only the server uses).

#include <nlohmann/json_fwd.hpp>

namespace pixelcraft::workflows {

/// Removes the server's own fields: `workflow_config`, `input_data`, `owner_id`, `owner_admin`
/// `last_event_seq`, `replay_source` and `replay_live_from`. Every answer and monitor frame built
/// from a loaded row goes through it.
void strip_private_fields(nlohmann::json& row);

} // namespace pixelcraft::workflows
