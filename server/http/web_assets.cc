#include "server/http/web_assets.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "server/http/embedded_web_files.h"

namespace aad {
namespace {

using Assets = absl::flat_hash_map<absl::string_view, WebAsset>;

const Assets& AllAssets() {
  // Built once, on first use (thread-safe static initialisation); never
  // destroyed, so that a request served during exit still finds it.
  static const Assets* const assets = [] {
    auto* map = new Assets();
    for (size_t i = 0; i < internal::kEmbeddedWebFileCount; ++i) {
      const internal::EmbeddedWebFile& f = internal::kEmbeddedWebFiles[i];
      const absl::string_view name(f.name);
      map->emplace(name, WebAsset{name, ContentTypeOf(name),
                                  absl::string_view(reinterpret_cast<const char*>(f.bytes),
                                                    f.size)});
    }
    return map;
  }();
  return *assets;
}

}  // namespace

const WebAsset* FindWebAsset(absl::string_view name) {
  const Assets& assets = AllAssets();
  const auto it = assets.find(name);
  return it == assets.end() ? nullptr : &it->second;
}

absl::string_view ContentTypeOf(absl::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return "application/octet-stream";
  const std::string ext = absl::AsciiStrToLower(name.substr(dot + 1));
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace aad
