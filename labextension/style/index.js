// The styles in the order index.css gives them.
import './index.css';
