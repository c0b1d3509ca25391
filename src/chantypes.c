/* chantypes: the table of channel types the channel layer dispatches on
 * (channel.h). Adding a type is adding a line here. */
#include "channel.h"
#include "build_opts.h"
#include "forward.h"
#include "session.h"

const struct chan_type *const chan_types[] = {
	&session_chan_type,
#if HAVE_FORWARDING     /* ./configure --disable-forwarding leaves them out */
	&direct_tcpip_chan_type,
	&direct_streamlocal_chan_type,
	&forwarded_tcpip_chan_type,
	&forwarded_streamlocal_chan_type,
#endif
	NULL,
};
