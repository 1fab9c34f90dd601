#pragma once
// Escaping for the two markups the reports write, shared by every renderer that writes them
// (the Markdown and HTML reports of analyze/probe, and of merge).

#include <string>
#include <string_view>

namespace synprobe {

// Text for HTML element content and attribute values: & < > " escaped.
[[nodiscard]] std::string html_escape(std::string_view s);
// Text for a GFM table cell: "|" escaped, newlines become spaces (a cell is one line).
[[nodiscard]] std::string markdown_cell(std::string_view s);

}  // namespace synprobe
