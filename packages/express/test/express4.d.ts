// express4 is an npm alias of express@4 for testing both majors; its API is typed like express's for these tests.
declare module 'express4' {
  import express from 'express';
  export default express;
}
