#ifndef GUESTHOUSE_CLIBXML2_SHIM_H
#define GUESTHOUSE_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, and its encoding.h would then include ICU's headers, which
   clash with the copy Foundation carries as a module. Only xmlCharEncodingHandler's own layout
   depends on it, and Guesthouse reaches that struct through pointers alone. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif
