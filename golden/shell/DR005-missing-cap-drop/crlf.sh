docker run -d \
  -p 8080:80 \
  nginx:1.27
