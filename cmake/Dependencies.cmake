# Every third-party dependency comes from Debian 12 packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)  # reading our own JSON back (synprobe report, diff)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)

# libtins' pkg-config file points its include dir one level too deep (…/include/tins),
# so wrap it in an imported target of our own that uses <tins/…> includes.
find_library(TINS_LIBRARY NAMES tins REQUIRED)
find_path(TINS_INCLUDE_DIR NAMES tins/tins.h REQUIRED)
if(NOT TARGET synprobe::tins)
  add_library(synprobe::tins UNKNOWN IMPORTED)
  set_target_properties(synprobe::tins PROPERTIES
    IMPORTED_LOCATION "${TINS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${TINS_INCLUDE_DIR}")
endif()

if(SYNPROBE_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
