# Warnings are errors for k3sjoin's own targets only; third-party headers come in as
# system includes from their CMake packages, so they do not trip -Werror. -Wnull-dereference
# is left out: g++ 12 reports it inside libstdc++ strings inlined from CLI11 at -O2.
function(k3sjoin_enable_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
    -Werror)
endfunction()
