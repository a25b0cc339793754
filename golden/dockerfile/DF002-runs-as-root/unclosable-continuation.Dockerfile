# The last line ends in an escape character, after a literal one and blanks: no USER can be
# appended (BuildKit would read it as more arguments of the RUN).
FROM alpine:3.20
RUN apk add --no-cache curl \ \
