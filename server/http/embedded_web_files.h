// What the build generates from server/http/web/ (embed_web_assets.cmake
// writes web_assets_data.cc into the build tree, never into git): each
// file's name and bytes. Read through web_assets.h, not directly.
#ifndef AADD_SERVER_HTTP_EMBEDDED_WEB_FILES_H_
#define AADD_SERVER_HTTP_EMBEDDED_WEB_FILES_H_

#include <cstddef>

namespace aad::internal {

struct EmbeddedWebFile {
  const char* name;
  const unsigned char* bytes;
  size_t size;
};

// kEmbeddedWebFileCount entries (then one sentinel, so that the array is
// never empty).
extern const EmbeddedWebFile kEmbeddedWebFiles[];
extern const size_t kEmbeddedWebFileCount;

}  // namespace aad::internal

#endif  // AADD_SERVER_HTTP_EMBEDDED_WEB_FILES_H_
