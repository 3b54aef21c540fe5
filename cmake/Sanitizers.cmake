# K3SJOIN_SANITIZE builds everything with AddressSanitizer and UndefinedBehaviorSanitizer,
# and makes any UBSan report fatal so a test run fails on it.
if(K3SJOIN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
