# Settings shared by the project's own targets, kept in interface targets so that nothing leaks
# into a project that adds this one through global flags.
#   ignis_warnings         compiler warnings; the libraries of the layers link it.
#   ignis_project_options  the warnings and the linker; the project's executables link it. The
#                          libraries must not: a static library passes its private dependencies'
#                          link options on to whoever links it, the parent project's programs too.
add_library(ignis_warnings INTERFACE)
target_compile_options(ignis_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12's -Wnull-dereference and -Wmaybe-uninitialized fire inside Boost headers at -O2.
  target_compile_options(ignis_warnings INTERFACE -Wno-null-dereference -Wno-maybe-uninitialized)
endif()
if(IGNIS_WERROR)
  target_compile_options(ignis_warnings INTERFACE -Werror)
endif()

add_library(ignis_project_options INTERFACE)
target_link_libraries(ignis_project_options INTERFACE ignis_warnings)

# lld links the large debug-info test binaries about four times faster than ld.bfd; any linker
# works, so it is only used when present.
option(IGNIS_USE_LLD "Link with lld when the compiler accepts -fuse-ld=lld" ON)
if(IGNIS_USE_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" IGNIS_HAVE_LLD)
  if(IGNIS_HAVE_LLD)
    target_link_options(ignis_project_options INTERFACE -fuse-ld=lld)
  endif()
endif()

if(IGNIS_SANITIZE)
  add_compile_options(-fsanitize=${IGNIS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${IGNIS_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND IGNIS_SANITIZE MATCHES "undefined")
    # clang-14's -fsanitize=function cannot compile coroutines ("Cannot represent a difference
    # across sections").
    add_compile_options(-fno-sanitize=function)
  endif()
endif()

if(IGNIS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IGNIS_FUZZ needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  # Instrument the libraries for coverage; only the fuzzer executables link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# The shared libraries' SONAME version: before 1.0 every minor version may break the ABI, so it
# is major.minor (libignis_socketio.so.0.2); from 1.0 on the major version alone.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(IGNIS_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(IGNIS_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

# Adds a library of one layer: ignis_<layer>, alias ignis::<layer> (the name it is exported
# under, docs/library.md). HEADERS (paths or glob patterns under include/) name the layer's public
# headers where the build checks that they include no header of a layer they do not depend on
# (tests/headers). The layers are listed in the global property IGNIS_LAYERS, in order, for the
# install rules (cmake/IgnisInstall.cmake).
function(ignis_add_layer layer)
  cmake_parse_arguments(ARG "" "" "SOURCES;HEADERS;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ignis_${layer} ${ARG_SOURCES})
  add_library(ignis::${layer} ALIAS ignis_${layer})
  target_include_directories(ignis_${layer}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # The warnings only while building the layer: a static library's private dependencies are part
  # of its exported link interface, and ignis_warnings is not exported.
  target_link_libraries(ignis_${layer}
    PUBLIC ${ARG_PUBLIC_DEPS}
    PRIVATE $<BUILD_INTERFACE:ignis_warnings> ${ARG_PRIVATE_DEPS})
  target_compile_features(ignis_${layer} PUBLIC cxx_std_20)
  # Shared libraries export every symbol (default visibility; docs/library.md), so no
  # <target>_EXPORTS definition is needed: without it a shared build compiles the very same
  # command lines as a static one, and reuses its objects through ccache. Installed, a shared
  # layer finds the layers it links next to itself ($ORIGIN), wherever the tree was installed.
  set_target_properties(ignis_${layer} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    EXPORT_NAME ${layer}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${IGNIS_SOVERSION}
    DEFINE_SYMBOL ""
    INSTALL_RPATH "$ORIGIN")
  set_property(GLOBAL APPEND PROPERTY IGNIS_LAYERS ${layer})
  set(headers)
  foreach(pattern ${ARG_HEADERS})
    file(GLOB matched CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/include
         ${PROJECT_SOURCE_DIR}/include/${pattern})
    if(NOT matched)
      message(FATAL_ERROR "ignis_add_layer(${layer}): no header matches ${pattern}")
    endif()
    list(APPEND headers ${matched})
  endforeach()
  set_property(TARGET ignis_${layer} PROPERTY IGNIS_HEADERS ${headers})
endfunction()
