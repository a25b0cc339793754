# The last line is only the escape character: the line before it is continued too, so removing
# it does not end the RUN, and no USER can be appended.
FROM alpine:3.20
RUN set -eux; \
	apk add --no-cache curl; \
	\
# a comment at the end