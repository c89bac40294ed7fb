/* tests/fuzz/fuzz_spec.c: libFuzzer target for the config.json parser
 * (runtime/spec.c); config.json comes from bundles berth did not write. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = xmalloc(size + 1);
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct spec *s = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	if (spec_parse(text, "config.json", &s, &e) == 0) {
		/* Walk the lookups too: they index the parsed arrays. */
		for (int t = 0; t < NS_TYPE_COUNT; t++)
			(void)spec_find_ns(s, (enum spec_ns_type)t);
		(void)spec_annotation(s, "org.opencontainers.image.title");
		spec_free(s);
	} else if (!e.msg) {
		abort(); /* a failure must always say why */
	}
	return 0;
}
