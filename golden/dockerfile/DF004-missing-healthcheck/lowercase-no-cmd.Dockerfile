from alpine:3.20
copy app /app
expose 8080
