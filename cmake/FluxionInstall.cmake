# Installs fluxion as a relocatable CMake package: find_package(fluxion) + fluxion::fluxion.
include(CMakePackageConfigHelpers)
# The umbrella headers: #include "fluxion/fluxion.hpp" (or "fluxion/solvers.hpp") is all an embedding user needs.
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/src/fluxion/fluxion.hpp ${CMAKE_CURRENT_SOURCE_DIR}/src/fluxion/solvers.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fluxion)
install(EXPORT fluxionTargets NAMESPACE fluxion:: FILE fluxionTargets.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fluxion)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/fluxionConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/fluxionConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fluxion)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fluxionConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fluxionConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/fluxionConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fluxion)
