FROM node:20
WORKDIR /app
ONBUILD COPY package.json /app/
ONBUILD RUN npm install
CMD ["npm", "start"]
