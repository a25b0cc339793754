FROM alpine:3.20
# comment
ADD a \
    # interior comment
    b /dst/
USER 1000
