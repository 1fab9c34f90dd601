# One interface target carries the project's warning and sanitizer flags; every target links it.
add_library(synprobe_warnings INTERFACE)
target_compile_options(synprobe_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${SYNPROBE_WERROR}>:-Werror>)

add_library(synprobe_sanitizers INTERFACE)
if(SYNPROBE_SANITIZE)
  target_compile_options(synprobe_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(synprobe_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
target_link_libraries(synprobe_warnings INTERFACE synprobe_sanitizers)
