#pragma once
// The words of a report for people (Markdown and HTML share them): the finding in
// plain language, the next step for the reader, and the table of relevant packets.
// Written for a firewall administrator who did not run the tool.

#include <string>
#include <vector>

#include "dissect/verdict/report_model.hpp"

namespace synprobe {

// What to ask for about a name whose addresses do not all accept: the DNS owner and the
// server team for an address with no host, the path's owners for one family that fails.
[[nodiscard]] std::string name_next_step(const NameFinding& f);

// "198.18.4.10:90/tcp" (IPv6 in brackets).
[[nodiscard]] std::string target_text(const Attempt& a);
// What the request named (e.g. "TLS server name example.org"), or "" when there was none.
[[nodiscard]] std::string trigger_text(const Attempt& a);
// For a refusal after the request: the control the same report holds, in one sentence
// ("The same server answered ... for TLS server name allowed.example (attempt 3)"): another
// attempt to the same address and port whose request, naming something else, was
// answered. "" when there is none.
[[nodiscard]] std::string control_text(const AttemptResult& r, const std::vector<AttemptResult>& all);
// One paragraph: who refused, where, and the decisive evidence, in plain words.
[[nodiscard]] std::string finding(const AttemptResult& r);
// What the reader should ask for or check next.
[[nodiscard]] std::string next_step(const AttemptResult& r);
// What decided the verdict, in a few words, as nmap's --reason gives it: "a reset from
// nearer than the host (early-reset)". The text output prints it under each attempt;
// the signal names in parentheses are docs/signals.md's.
[[nodiscard]] std::string reason_text(const AttemptResult& r);
// "refused by the device at hop 2 (198.18.2.2)", for summary tables.
[[nodiscard]] std::string who_text(const AttemptResult& r);

// A hop's answers in a table cell: "time-exceeded time-exceeded * (admin-prohibited)",
// followed, when asked, by what the path changed ("; changed mss 1460 → 1400").
[[nodiscard]] std::string hop_answers_text(const TraceHop& h, bool with_changes);
// Whether the verdict names this hop: the refuser, or for a drop the last hop answering.
[[nodiscard]] bool names_hop(const Judgement& j, const TraceHop& h);

struct PacketRow {
  std::string time;       // UTC time of day with microseconds
  std::string direction;  // "→" (ours) or "←" (answer)
  std::string packet;     // "SYN", "RST/ACK", "ICMP admin-prohibited"
  std::string from;
  std::string ttl;        // "63 (hop 2 of 64)"
  std::string ip_id;
  std::string seq_ack;
};
// The attempt's SYNs and answers in time order.
[[nodiscard]] std::vector<PacketRow> packet_rows(const AttemptResult& r);

}  // namespace synprobe
