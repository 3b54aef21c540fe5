# K3SJOIN_SANITIZE builds everything with AddressSanitizer and UndefinedBehaviorSanitizer,
# and makes any UBSan report fatal so a test run fails on it.
if(K3SJOIN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# K3SJOIN_FUZZ instruments every target for libFuzzer's coverage feedback (fuzzer-no-link,
# so only the targets in tests/fuzz get libFuzzer's main) and runs it under ASan and UBSan,
# because a fuzzer without sanitizers finds only crashes.
if(K3SJOIN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "K3SJOIN_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
