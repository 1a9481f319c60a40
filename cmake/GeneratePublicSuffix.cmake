# Turns the Public Suffix List into a C++ array of ASCII rules.
# Usage: cmake -DINPUT=public_suffix_list.dat -DOUTPUT=public_suffix_data.cpp -P this-file
file(STRINGS "${INPUT}" lines)
set(body "")
set(count 0)
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  # Rules are the first word of a line; comments start with //; Unicode rules
  # are skipped because normalised names are ASCII.
  if(line MATCHES "^([a-z0-9*!][a-z0-9._*!-]*)$")
    string(APPEND body "    \"${CMAKE_MATCH_1}\",\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count LESS 1000)
  message(FATAL_ERROR "${INPUT}: only ${count} rules; is this the Public Suffix List?")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT}; do not edit.\n"
  "namespace chokepoint::policy::detail {\n"
  "extern const char* const kPublicSuffixRules[] = {\n${body}};\n"
  "extern const unsigned kPublicSuffixRuleCount = ${count};\n"
  "}  // namespace chokepoint::policy::detail\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
