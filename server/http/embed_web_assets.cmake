# Writes OUT, a C++ file holding every file of the folder DIR as bytes (the
# labelling page, compiled into aadd; see embedded_web_files.h). Run at build
# time by server/http/CMakeLists.txt:
#   cmake -DDIR=server/http/web -DOUT=build/.../web_assets_data.cc -P embed_web_assets.cmake
# Hidden files and editor backups (.name, name~) are left out; a name that
# is not letters, digits, '.', '_' or '-' stops the build, since it becomes
# a URL path (/static/NAME) and a C string.
if(NOT DIR OR NOT OUT)
  message(FATAL_ERROR "embed_web_assets.cmake needs -DDIR=... and -DOUT=...")
endif()
file(GLOB files LIST_DIRECTORIES false RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(entries "")
set(count 0)
# CMake's regular expressions have no {n}: sixteen bytes spelt out.
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 sixteen)
foreach(name IN LISTS files)
  if(name MATCHES "^\\." OR name MATCHES "~$")
    continue()
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9._-]+$")
    message(FATAL_ERROR "web asset '${DIR}/${name}': file names must be letters, digits, '.', '_' or '-'")
  endif()
  file(READ "${DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # Sixteen bytes a line; a trailing 0 keeps an empty file's array legal.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "// ${name}, ${size} bytes\nconst unsigned char kFile${count}[] = {\n    ${bytes}0};\n\n")
  string(APPEND entries "    {\"${name}\", kFile${count}, ${size}},\n")
  math(EXPR count "${count} + 1")
endforeach()
set(text "// Generated from ${DIR} by server/http/embed_web_assets.cmake; do not edit.
#include \"server/http/embedded_web_files.h\"

namespace aad::internal {
namespace {

${arrays}}  // namespace

const EmbeddedWebFile kEmbeddedWebFiles[] = {
${entries}    {nullptr, nullptr, 0},
};
const size_t kEmbeddedWebFileCount = ${count};

}  // namespace aad::internal
")
# Rewritten only when it changes, so that an unchanged page recompiles nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
