// The builder loads .svg files imported from TypeScript as raw strings.
declare module '*.svg' {
  const value: string;
  export default value;
}
