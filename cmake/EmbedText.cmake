# Embeds a text file as a C++ string_view constant.
# Usage: cmake -DINPUT=f -DOUTPUT=f.cpp -DSYMBOL=name -DNAMESPACE=ns -P this-file
file(READ "${INPUT}" content)
if(content MATCHES "\\)chokepoint_embed\"")
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT}; do not edit.\n"
  "#include <string_view>\n"
  "namespace ${NAMESPACE} {\n"
  "extern const std::string_view ${SYMBOL};\n"
  "const std::string_view ${SYMBOL} = R\"chokepoint_embed(${content})chokepoint_embed\";\n"
  "}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
