// The labelling page's static files (server/http/web/), compiled into the
// binary at build time so that aadd serves its page with nothing to install
// beside it and no CDN (the expert's machine may be offline).
#ifndef AADD_SERVER_HTTP_WEB_ASSETS_H_
#define AADD_SERVER_HTTP_WEB_ASSETS_H_

#include "absl/strings/string_view.h"

namespace aad {

struct WebAsset {
  absl::string_view name;          // file name in server/http/web/, e.g. "index.html"
  absl::string_view content_type;  // by extension, e.g. "text/html; charset=utf-8"
  absl::string_view body;          // the file's bytes, static storage
};

// The asset of that file name, or nullptr. Thread-safe; the result lives as
// long as the program.
const WebAsset* FindWebAsset(absl::string_view name);

// The Content-Type served for a file name: html, js, css, json, svg, png,
// ico, txt by extension; application/octet-stream otherwise. Pure.
absl::string_view ContentTypeOf(absl::string_view name);

}  // namespace aad

#endif  // AADD_SERVER_HTTP_WEB_ASSETS_H_
