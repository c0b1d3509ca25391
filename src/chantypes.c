/* chantypes: the table of channel types the channel layer dispatches on
 * (channel.h). Adding a type is adding a line here. */
#include "channel.h"
#include "session.h"

const struct chan_type *const chan_types[] = {
	&session_chan_type,
	NULL,
};
