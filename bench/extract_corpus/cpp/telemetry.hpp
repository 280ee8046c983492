#pragma once
// telemetry.hpp - packet layout shared with the ground segment

#include <cstdint>
#include <string_view>

namespace adcs {

struct Packet {
  std::uint16_t apid;
  std::uint16_t length;  // XXX: includes the header, unlike the ICD says
};

inline constexpr std::string_view kTodoNote = "TODO: a string_view, not a comment";
inline constexpr int FIXME_COUNT = 2;

/**
 * Checksum over the payload.
 *
 * HACK: CRC-16 table built at first call
 */
std::uint16_t crc16(const std::uint8_t* data, std::size_t n);

// The todo list is kept in notes/design-review.md.
//TODO: move the APIDs into a generated header
}  // namespace adcs
