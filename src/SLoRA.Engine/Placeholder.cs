namespace SLoRA.Engine; internal static class Placeholder { }
