ARG SRC=app
FROM alpine:3.20
ADD $SRC /app/
