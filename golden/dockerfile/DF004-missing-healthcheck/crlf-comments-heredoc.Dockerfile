# syntax=docker/dockerfile:1
FROM node:20

WORKDIR /app
# dependencies
RUN npm install \
# comment in continuation
      express
COPY <<EOF /app/index.js
require("express")().listen(3000)
EOF
EXPOSE 3000

# start
# (two comment lines)
CMD ["node", "index.js"]
