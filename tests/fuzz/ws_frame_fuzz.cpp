// libFuzzer target: the WebSocket frame reader as the server runs it (RESTinio 0.6.16's
// ws_parser_t and ws_protocol_validator_t, with http/server.cpp's 64 KiB declared-length fence):
// headers are parsed byte by byte, a frame declaring more than the limit is refused before its
// payload is read or allocated, then the payload is unmasked and validated (UTF-8 of text
// frames, close codes, control-frame rules) as ws_connection_t::handle_read_payload does.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>
// Above stays above: RESTinio 0.6.16's websocket/message.hpp uses std::shared_ptr without
// including <memory> (and clang-format would otherwise sort the std headers after it).
#include <restinio/websocket/impl/ws_parser.hpp>
#include <restinio/websocket/impl/ws_protocol_validator.hpp>

namespace {

namespace rwi = restinio::websocket::basic::impl;

constexpr uint64_t max_ws_frame_bytes = 64 * 1024; // http/server.cpp

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rwi::ws_parser_t parser;
  rwi::ws_protocol_validator_t validator{true};
  const char* in = reinterpret_cast<const char*>(data);
  size_t pos = 0;
  while (pos < size) {
    pos += parser.parser_execute(in + pos, size - pos);
    if (!parser.header_parsed())
      break; // waits for more bytes
    const auto& md = parser.current_message();
    if (md.payload_len() > max_ws_frame_bytes)
      break; // 1009 and close: nothing of the payload is read
    if (validator.process_new_frame(md) != rwi::validation_state_t::frame_header_is_valid)
      break; // 1002 and close
    const auto len = static_cast<size_t>(md.payload_len());
    if (size - pos < len)
      break; // waits for more bytes
    std::vector<char> payload(in + pos, in + pos + len);
    pos += len;
    // The payload arrives in reads of any size: validate it in two parts, so UTF-8 sequences
    // and close codes split across reads are covered.
    const size_t cut = len / 3;
    auto st = validator.process_and_unmask_next_payload_part(payload.data(), cut);
    if (st == rwi::validation_state_t::payload_part_is_valid)
      st = validator.process_and_unmask_next_payload_part(payload.data() + cut, len - cut);
    if (st != rwi::validation_state_t::payload_part_is_valid && len > 0) {
      validator.finish_frame();
      break;
    }
    if (validator.finish_frame() != rwi::validation_state_t::frame_is_valid)
      break;
    parser.reset();
  }
  return 0;
}
