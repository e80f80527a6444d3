#pragma once
/// Each module's settings, taken from the one configuration (API.md §10). Modules never see
/// `config`: each declares the options it needs, and only app/ knows where they come from.

#include "actors/agents/agent_registry.hpp"
#include "actors/agents/tool_actor.hpp"
#include "app/config.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "integrations/llm_client.hpp"
#include "integrations/vendor_client.hpp"
#include "workflows/workflow_manager.hpp"

namespace pixelcraft::app {

integrations::llm_options llm_options_of(const config& cfg);
integrations::vendor_options vendor_options_of(const config& cfg);
agent_settings agent_settings_of(const config& cfg);
tool_settings tool_settings_of(const config& cfg);
workflows::workflow_settings workflow_settings_of(const config& cfg);
http::http_settings http_settings_of(const config& cfg);
/// The HTTP server's limits; a request's handler is cut off a minute after the longer of the
/// request and model deadlines (the request's own 504 comes first).
http::server_options server_options_of(const config& cfg);

} // namespace pixelcraft::app
