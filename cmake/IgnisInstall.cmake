# Install rules of the libraries (docs/library.md):
#   include/ignis/**                              the public headers, ignis/version.hpp
#   lib/libignis_<layer>.a (or .so.*)             one library per layer
#   lib/cmake/ignis-socketio/                     the CMake package: find_package(ignis-socketio)
#                                                 gives ignis::protocol ... ignis::redis_adapter
#   lib/pkgconfig/ignis-socketio.pc               the same libraries for pkg-config
# Component "development" holds all of it except the shared libraries themselves, which go with
# the programs in "runtime".
include(CMakePackageConfigHelpers)

set(IGNIS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ignis-socketio)
get_property(ignis_layers GLOBAL PROPERTY IGNIS_LAYERS)
list(TRANSFORM ignis_layers PREPEND ignis_ OUTPUT_VARIABLE ignis_layer_targets)

install(TARGETS ${ignis_layer_targets} EXPORT ignis-socketio-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ ${PROJECT_BINARY_DIR}/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT ignis-socketio-targets NAMESPACE ignis:: FILE ignis-socketio-targets.cmake
        DESTINATION ${IGNIS_CMAKE_DIR} COMPONENT development)

# What the exported targets need from the system. A shared library carries its private
# dependencies itself; a static one needs them all at its users' link (OpenSSL, zlib, hiredis,
# libxcrypt, Boost.URL appear in the export as $<LINK_ONLY:...>).
get_target_property(ignis_library_type ignis_protocol TYPE)
if(ignis_library_type STREQUAL "STATIC_LIBRARY")
  set(IGNIS_STATIC_LIBRARIES ON)
  set(IGNIS_BOOST_COMPONENTS "json url system")
else()
  set(IGNIS_STATIC_LIBRARIES OFF)
  set(IGNIS_BOOST_COMPONENTS "json system")
endif()
set(IGNIS_BOOST_VERSION ${Boost_VERSION})
list(JOIN ignis_layers " " IGNIS_CONFIG_LAYERS)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ignis-socketio-config.cmake.in
  ${PROJECT_BINARY_DIR}/ignis-socketio-config.cmake
  INSTALL_DESTINATION ${IGNIS_CMAKE_DIR})
# Before 1.0 a minor version may break the API: a request for 0.2 accepts 0.2.x only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ignis-socketio-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ignis-socketio-config.cmake
              ${PROJECT_BINARY_DIR}/ignis-socketio-config-version.cmake
        DESTINATION ${IGNIS_CMAKE_DIR} COMPONENT development)

# pkg-config: one file for every layer (dependents first, so that static archives link in order).
# Its prefix is found from the file's own place, so the tree can be installed anywhere
# (cmake --install --prefix, DESTDIR) and moved.
file(RELATIVE_PATH IGNIS_PC_TO_PREFIX
     ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" IGNIS_PC_TO_PREFIX "${IGNIS_PC_TO_PREFIX}")
set(IGNIS_PC_LIBS "")
set(ignis_reversed ${ignis_layers})
list(REVERSE ignis_reversed)
foreach(layer ${ignis_reversed})
  string(APPEND IGNIS_PC_LIBS " -lignis_${layer}")
endforeach()
if(IGNIS_STATIC_LIBRARIES)
  # Static archives: their dependencies are needed by every program that links them.
  set(IGNIS_PC_REQUIRES "openssl zlib hiredis libxcrypt")
  set(IGNIS_PC_LIBS "${IGNIS_PC_LIBS} -lboost_url -lboost_json -lboost_system -pthread")
else()
  set(IGNIS_PC_REQUIRES "")
  set(IGNIS_PC_LIBS "${IGNIS_PC_LIBS} -lboost_json -pthread")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/ignis-socketio.pc.in
               ${PROJECT_BINARY_DIR}/ignis-socketio.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ignis-socketio.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

# The guides, which the headers' comments, the configuration file and the manual pages cite: with
# the libraries and with the programs alike.
foreach(component development runtime)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
          COMPONENT ${component})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
          COMPONENT ${component} FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
endforeach()
