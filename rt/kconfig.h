/* IS_ENABLED(CONFIG_X): 1 when the Kconfig bool is set, else 0, usable in
 * plain C expressions so both sides are type-checked and the compiler drops
 * the dead one (the same preprocessor trick as Linux's). */
#ifndef RT_KCONFIG_H
#define RT_KCONFIG_H

#include "config.h"

#define RT_PLACEHOLDER_1 0,
#define RT_TAKE_SECOND(ignored, val, ...) val
#define RT_IS_ENABLED3(junk) RT_TAKE_SECOND(junk 1, 0, 0)
#define RT_IS_ENABLED2(val) RT_IS_ENABLED3(RT_PLACEHOLDER_##val)
#ifdef __CPPCHECK__
#define IS_ENABLED(opt) 1    /* its preprocessor cannot follow the trick */
#else
#define IS_ENABLED(opt) RT_IS_ENABLED2(opt)
#endif

#endif
