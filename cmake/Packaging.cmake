# CPack: a Debian package of what `cmake --install` installs (cpack -G DEB in the build
# directory; tests/package/check_deb.sh builds and checks one in the test suite).
# Depends is computed by dpkg-shlibdeps from the libraries the binary really links
# (libpcap0.8, libtins4.0, libfmt9, libstdc++6, libc6, ...), never typed by hand.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "synprobe")
set(CPACK_PACKAGE_VENDOR "synprobe")
set(CPACK_PACKAGE_CONTACT "synprobe developers <dev@synprobe.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "who refused the TCP connection? packet evidence for network engineers")
set(CPACK_PACKAGE_DESCRIPTION "synprobe gives every TCP connection attempt of a capture file (pcap, pcapng), \
or of a live probe, a verdict on who refused it: the destination host, a firewall or middlebox on the path, \
a router sending ICMP, or a silent drop, with the hop, the address, the confidence and the signals behind it.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://synprobe.invalid/")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_INSTALL_DIRECTORY "synprobe")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # synprobe_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# setcap, for granting the capabilities (postinst, SYNPROBE_SETCAP=1; docs/man/synprobe.1).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcap2-bin")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_LIST_DIR}/debian/postinst")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
