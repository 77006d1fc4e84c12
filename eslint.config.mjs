import effectPlugin from "@effect/eslint-plugin"
import tsPlugin from "@typescript-eslint/eslint-plugin"
import tsParser from "@typescript-eslint/parser"

export default [
  {
    ignores: ["**/dist/**", "**/build/**", "**/node_modules/**", "**/*.d.ts", "docs/api/**", "bench/data/**"]
  },
  {
    files: ["**/*.ts", "**/*.mjs"],
    languageOptions: {
      parser: tsParser,
      ecmaVersion: 2022,
      sourceType: "module"
    },
    plugins: {
      "@effect": effectPlugin,
      "@typescript-eslint": tsPlugin
    },
    rules: {
      "@effect/dprint": [
        "error",
        {
          config: {
            indentWidth: 2,
            lineWidth: 120,
            semiColons: "asi",
            quoteStyle: "alwaysDouble",
            trailingCommas: "never",
            operatorPosition: "maintain",
            "arrowFunction.useParentheses": "force"
          }
        }
      ],
      "@typescript-eslint/consistent-type-imports": "warn",
      "@typescript-eslint/array-type": ["warn", { default: "generic", readonly: "generic" }],
      "no-console": "off"
    }
  },
  {
    files: ["packages/*/src/**/*.ts"],
    rules: {
      "@effect/no-import-from-barrel-package": [
        "error",
        { packageNames: ["effect", "@effect/platform", "@effect/platform-node"] }
      ]
    }
  }
]
