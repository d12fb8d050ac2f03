# Finds fluxion's third-party dependencies (all from Debian 12 packages).
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PETSC REQUIRED IMPORTED_TARGET GLOBAL PETSc)
find_package(yaml-cpp REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
pkg_check_modules(MUPARSER REQUIRED IMPORTED_TARGET GLOBAL muparser)

# Parallel HDF5 (OpenMPI flavour, the one PETSc is built with).
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "fluxion needs parallel HDF5 (Debian: libhdf5-openmpi-dev); found ${HDF5_C_INCLUDE_DIRS}")
endif()

# ParaView's own VTK (paraview-dev), so that our output is read by the same code ParaView runs.
find_package(VTK 9.2 REQUIRED
  COMPONENTS CommonCore CommonDataModel CommonExecutionModel IOXML IOGeometry IOLegacy
             FiltersCore FiltersGeneral FiltersModeling IOXdmf2 IOXdmf3 IOPLY
  HINTS /usr/lib/x86_64-linux-gnu/cmake/paraview-5.11/vtk)

# FFTW (double precision) and its MPI interface for the periodic spectral solver (Debian:
# libfftw3-dev, libfftw3-mpi-dev; fftw3_mpi has no pkg-config file there). Linked privately by
# full path, so the installed package needs no FFTW target and its headers stay out of ours.
find_path(FFTW_MPI_INCLUDE_DIR fftw3-mpi.h REQUIRED)
find_library(FFTW3_LIBRARY fftw3 REQUIRED)
find_library(FFTW3_MPI_LIBRARY fftw3_mpi REQUIRED)

# The learn layer: libtorch (Debian: libtorch-dev, CPU) and SLEPc (Lanczos Ritz vectors for DCDM's
# training data). Both are linked privately by fluxion_learn, whose installed headers include neither.
if(FLUXION_WITH_TORCH)
  find_package(Torch REQUIRED)
  pkg_check_modules(SLEPC REQUIRED IMPORTED_TARGET GLOBAL slepc)
endif()
