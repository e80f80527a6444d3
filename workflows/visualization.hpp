#pragma once
/// `GET /api/agents/workflows/{id}/visualization` (API.md §7): the execution as a graph, a
/// timeline and its agents' interactions. Pure: http/ reads the inputs and sends the result.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace pixelcraft::workflows {

/// From the execution (`WorkflowExecution`), its stored events (`{"event_type", "data",
/// "timestamp"}`, in order), its agent messages (`AgentMessage`) and its shared-memory keys:
/// `{"workflow_id", "conversation_id", "workflow_type", "current_state", "execution_graph":
/// {"nodes": [{"id", "status"}], "edges": [{"from", "to", "type", "count"}]},
/// "execution_timeline", "agent_interactions", "shared_memory_keys"}`. A node is `completed`
/// when the agent has a result, `running` while its step runs, `failed` after `step_failed`,
/// else `pending`; edges count the steps' order (`sequence`, or `route` for conditional runs;
/// none for parallel ones) and the messages by type.
nlohmann::json visualization(const nlohmann::json& wf, const nlohmann::json& events,
                             const nlohmann::json& messages,
                             const std::vector<std::string>& memory_keys);

} // namespace pixelcraft::workflows
