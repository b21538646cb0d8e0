# Package metadata; the full .deb/.rpm work (dependencies, lintian) is tracked separately.
set(CPACK_PACKAGE_NAME "corkscrew++")
set(CPACK_PACKAGE_CONTACT "corkscrew++ developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_GENERATOR "TGZ")
include(CPack)
